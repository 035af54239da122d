"""Train PAEE with Accelerate: a thin launcher around ``paee train`` (same options, see ``--help``).

    accelerate launch training/train.py --config training/configs/docred_bert_base.json
    ACCELERATE_USE_CPU=1 torchrun --nproc_per_node 2 training/train.py --config training/configs/quickstart.json
"""

import sys

from paee_hf.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
