"""seedcheck: is a TensorFlow/Keras training script reproducible, and if not, where and why?

Kept import-free on purpose: the hook imports this package inside the user's process, where
start-up time and imported modules must stay close to zero.
"""

__version__ = "0.1.0"
