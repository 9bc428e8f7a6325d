"""Example 2 of the article: tf.random.shuffle under the global seed.

tf.random.shuffle has no op seed here, so it takes its seed from the global one: the same
permutations in every process.

seedcheck is expected to find: the seeding call recorded (tf.random.set_seed at this file's line),
and every stage reproducible. Exit 0.
"""

import tensorflow as tf

tf.random.set_seed(789)
values = tf.range(10)
first = tf.random.shuffle(values)
second = tf.random.shuffle(values)
print(first.numpy(), second.numpy())
