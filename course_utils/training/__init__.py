"""Training the course's ResNet-50: recipes, the training loop on one device or many,
augmentation, and the model card of the shipped weights."""
