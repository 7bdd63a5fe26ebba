# Compiled build only (dev/build_accel.py); plain Python ignores this file: add_task calls the
# record-update steps of ``luigi._scheduler.reports`` as C functions.
from luigi._scheduler cimport reports
