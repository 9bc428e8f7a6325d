"""tf.data pipelines whose parallel work may reorder or redraw their elements: a map with
deterministic=False feeding fit (4 batches, through a filter: of unknown length), a validation set shuffled without a seed (which the training
data does not pass through), a parallel map drawing random values and a parallel interleave
under Options().deterministic = False, read by a loop."""
import keras
import numpy as np
import tensorflow as tf

x = np.arange(64, dtype=np.float32).reshape(32, 2)
y = np.zeros(32, dtype=np.int32)
validation = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(32).batch(8)  # no seed of any kind
keras.utils.set_random_seed(0)
examples = tf.data.Dataset.from_tensor_slices((x, y))
train = examples.map(lambda a, b: (a * 2.0, b), num_parallel_calls=2, deterministic=False).filter(lambda a, b: True)
train = train.batch(8)  # of unknown length (the filter): fit reads it until get_next fails
model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(train, validation_data=validation, epochs=1, verbose=0)

shards = tf.data.Dataset.range(2).interleave(lambda i: examples, num_parallel_calls=2)
noisy = shards.map(lambda a, b: (a + tf.random.uniform([2]), b), num_parallel_calls=2)
unordered = tf.data.Options()
unordered.deterministic = False
for batch in noisy.batch(8).with_options(unordered):
    pass
