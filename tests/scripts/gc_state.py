"""Prints whether the cyclic garbage collector is on after `import tensorflow` (the hook pauses it
while TensorFlow is imported). With `off`, the script turns it off itself before the import."""
import gc
import sys

if sys.argv[1:] == ["off"]:
    gc.disable()
import tensorflow as tf  # noqa: E402

print(gc.isenabled(), tf.constant(1).numpy())
