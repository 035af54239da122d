"""Training on Accelerate: the loop (`loop`), its run configuration (`config`) and crash-safe checkpoints."""
