"""Raises an uncaught exception, as a crashing training script would."""


def load_data():
    raise FileNotFoundError("data/train.csv")


load_data()
