"""Random generators: a seeded tf.random.Generator, the global one (made from OS entropy even
after tf.random.set_seed), and an unseeded numpy default_rng."""
import numpy as np, tensorflow as tf
tf.random.set_seed(1)
g = tf.random.Generator.from_seed(7)
print(g.normal([3]).numpy())
glob = tf.random.get_global_generator()
print(glob.uniform([2]).numpy())
rng = np.random.default_rng()
print(rng.permutation(5))
