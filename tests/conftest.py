"""Shared test set-up: quiet tqdm monitor threads (a known Qt race) and a fixed torch thread count."""

import tqdm

tqdm.tqdm.monitor_interval = 0
