"""Example pipelines; run one with ``python3 -m luigi --module examples.wordcount WordCount --local-scheduler``."""
