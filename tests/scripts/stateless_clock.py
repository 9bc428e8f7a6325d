"""Stateless TF draws: seeded by a fixed pair (reproducible), and by a pair taken from the process id
(a seed computed as the script runs: the same draw differs in every run)."""
import os

import tensorflow as tf

fixed = tf.random.stateless_normal([3], seed=[1, 2])
varying = tf.random.stateless_uniform([3], seed=[os.getpid(), 7])
print(float(tf.reduce_sum(fixed)))
