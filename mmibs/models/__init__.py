"""Models of mmibs (Intra-Batch Supervision heads and losses), registered in mmdet's MODELS."""
