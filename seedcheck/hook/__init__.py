"""The part of seedcheck that runs inside each child process, around the user's script.

Nothing here imports TensorFlow, Keras or numpy: they are patched when the script imports them.
"""
