"""Training the course's ResNet-50: recipes, the training loop on one device or many,
augmentation, and the model card of the shipped weights; and brief runs of the original recipe in
memory, the protocol of chapter 9's comparison and of the momentum ablation (`brief_runs`)."""
