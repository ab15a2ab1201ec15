"""The SIGNS data: where it lives, how it is built from the Sign Language Digits images and
checked, and the tf.data pipelines that feed training."""
