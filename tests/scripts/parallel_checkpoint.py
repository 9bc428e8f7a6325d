"""Two runs side by side (--jobs 2) save a model to one path in the working directory, as a
tutorial's ModelCheckpoint("best_model.keras") does, and load it back. The runs take turns through
marker files, so that the first run's load always finds the second run's save over its own: a file
this run wrote, then another run wrote over while this one ran."""
import os
import time

import keras

seed_label = os.environ["SEEDCHECK_RUN"].split("#")[-1]  # "1" or "2"
keras.utils.set_random_seed(int(seed_label))  # the runs' models differ: they are not the same file


def wait_for(marker: str) -> None:
    deadline = time.monotonic() + 120
    while not os.path.exists(marker):
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {marker}")
        time.sleep(0.05)


model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
if seed_label == "1":
    model.save("shared.keras")
    open("saved-1", "w").close()
    wait_for("saved-2")
else:
    wait_for("saved-1")
    time.sleep(0.05)  # a later modification time than run 1's save, on any file system clock
    model.save("shared.keras")
    open("saved-2", "w").close()
print(keras.models.load_model("shared.keras").get_weights()[0].sum())
