"""Reference code, data loading and graders for the Residual Networks course.

Modules:
    resnet          identity_block, convolutional_block and ResNet50 (the graded reference).
    resnets_utils   load_dataset and convert_to_one_hot, the course's data interface.
    signs_dataset   builds the SIGNS-format data files from the Sign Language Digits images.
    grading         check_identity_block, check_convolutional_block, check_resnet50.
"""

__version__ = "0.1.0"
