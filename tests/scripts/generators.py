"""Random generators: a seeded tf.random.Generator, the global one (made from OS entropy even
after tf.random.set_seed; with --reset, seeded by reset_from_seed before its first draw), and an
unseeded numpy default_rng."""
import sys
import numpy as np, tensorflow as tf
tf.random.set_seed(1)
g = tf.random.Generator.from_seed(7)
print(g.normal([3]).numpy())
glob = tf.random.get_global_generator()
if "--reset" in sys.argv:
    glob.reset_from_seed(3)  # TF's documented way to seed the global generator
print(glob.uniform([2]).numpy())
rng = np.random.default_rng()
print(rng.permutation(5))
