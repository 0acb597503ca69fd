"""Tests of the benchmark's own code (benchmarks/ycbench) that run no benchmark."""
