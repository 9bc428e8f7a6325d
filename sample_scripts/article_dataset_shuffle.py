"""Example 3 of the article: Dataset.shuffle(buffer_size=10, seed=101), with no global seed.

An op seed alone fixes a tf.data shuffle: the same order in every process, and in every epoch
the same first order.

seedcheck is expected to find: no global seeding call (the script seeds nothing globally) and every
stage reproducible. Exit 0.
"""

import tensorflow as tf

dataset = tf.data.Dataset.range(20).shuffle(buffer_size=10, seed=101)
print([int(x) for x in dataset])
