"""Evaluation metrics of mmibs, registered in mmdet's METRICS."""
