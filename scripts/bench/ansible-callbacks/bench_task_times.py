# -*- coding: utf-8 -*-
# Ansible callback of the Ansible benchmark (scripts/bench/ansibleDrain.ts, ansibleCycle.ts): one line per task start and per
# host result, with the time in epoch milliseconds, so the benchmark can time the task itself apart
# from Ansible's own start-up and exit. Enabled only by the benchmark (ANSIBLE_CALLBACK_PLUGINS,
# ANSIBLE_CALLBACKS_ENABLED); the default output goes on as usual.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: bench_task_times
type: aggregate
short_description: epoch timestamps of task starts and host results
description:
  - Prints C(BENCH task-start <ms> <task>) and C(BENCH host-<ok|failed|unreachable> <ms> <host>).
'''


def _now_ms():
    return int(time.time() * 1000)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_task_times'
    CALLBACK_NEEDS_ENABLED = True

    def _line(self, what, name):
        self._display.display('BENCH %s %d %s' % (what, _now_ms(), name))

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._line('task-start', task.get_name())

    def v2_runner_on_ok(self, result):
        self._line('host-ok', result._host.get_name())

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._line('host-failed', result._host.get_name())

    def v2_runner_on_unreachable(self, result):
        self._line('host-unreachable', result._host.get_name())
