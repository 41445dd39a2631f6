"""The lesion detectors (SLAM and the per-slice baseline): config, model, inputs, post-processing,
predictor, slice sampling, the DBTex metric and the shipped weights."""
