"""Evidence beyond the store (design §6.7): chain anchors outside it, and whole-evidence verify."""
