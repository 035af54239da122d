"""Running a trained model over whole files and corpora: reading, data-parallel prediction, scoring, writing."""
