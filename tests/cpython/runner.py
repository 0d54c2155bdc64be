"""Runs modules of CPython's own regression tests (Debian's libpython3.11-testsuite) and
prints one line per test case, "RES <ok|FAIL|ERROR|skipped> <test id>", so that xtask can
compare Lintel with the host case by case.

usage: python3 runner.py [--timeout SECONDS] [--log DIR] MODULE[:Class,Class...]...

Each module runs in a child interpreter of its own (in a fresh temporary folder, as
regrtest runs it, with no optional resources such as the network enabled), so a module
that hangs or crashes costs only itself: it is killed after --timeout seconds and reported
as "RES TIMEOUT <module>" or "RES CRASH <module>" after the cases it finished.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time


def child(spec, resfile):
    import unittest
    from test import support

    # regrtest without -u: tests that need the network, lots of memory or time skip.
    support.use_resources = []
    mod, _, sel = spec.partition(":")
    names = ["test." + mod] if not sel else ["test.%s.%s" % (mod, s) for s in sel.split(",")]
    out = open(resfile, "w", buffering=1)
    done = set()

    class Result(unittest.TestResult):
        def emit(self, status, test):
            tid = test.id()
            if tid in done:
                return
            done.add(tid)
            out.write("RES %s %s\n" % (status, tid))
            out.flush()

        def addSuccess(self, test):
            super().addSuccess(test)
            self.emit("ok", test)

        def addFailure(self, test, err):
            super().addFailure(test, err)
            self.emit("FAIL", test)
            sys.stderr.write("FAIL %s\n%s\n" % (test.id(), self._exc_info_to_string(err, test)))

        def addError(self, test, err):
            super().addError(test, err)
            self.emit("ERROR", test)
            sys.stderr.write("ERROR %s\n%s\n" % (test.id(), self._exc_info_to_string(err, test)))

        def addSkip(self, test, reason):
            super().addSkip(test, reason)
            self.emit("skipped", test)

        def addExpectedFailure(self, test, err):
            super().addExpectedFailure(test, err)
            self.emit("ok", test)

        def addUnexpectedSuccess(self, test):
            super().addUnexpectedSuccess(test)
            self.emit("FAIL", test)

        def addSubTest(self, test, subtest, err):
            super().addSubTest(test, subtest, err)
            if err is not None:
                failed = issubclass(err[0], test.failureException)
                sys.stderr.write("%s %s\n%s\n" % ("FAIL" if failed else "ERROR", subtest.id(),
                                                  self._exc_info_to_string(err, test)))
                self.emit("FAIL" if failed else "ERROR", test)

    suite = unittest.defaultTestLoader.loadTestsFromNames(names)
    suite.run(Result())
    out.close()
    # Leftover non-daemon threads or atexit handlers must not hold the run up.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def main(argv):
    timeout = 300.0
    logdir = None
    specs = []
    i = 0
    while i < len(argv):
        if argv[i] == "--timeout":
            timeout = float(argv[i + 1])
            i += 1
        elif argv[i] == "--log":
            logdir = argv[i + 1]
            i += 1
        else:
            specs.append(argv[i])
        i += 1
    # The same start on both sides whatever launched us: SIGINT not ignored (a shell
    # ignores it for background jobs, and an ignored signal stays ignored across exec; a
    # handled one is reset to its default), and Linux's default descriptor limit for init
    # (tests that open descriptors until EMFILE skip above 1026).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    soft = 1024 if hard == resource.RLIM_INFINITY else min(1024, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "TERM": "linux",
        "LANG": "C.UTF-8",
    }
    for spec in specs:
        mod = spec.partition(":")[0]
        work = tempfile.mkdtemp(prefix="cpy-" + mod + "-")
        resfile = os.path.join(work, "results")
        log = open(os.path.join(logdir, mod + ".log") if logdir else os.devnull, "wb")
        start = time.monotonic()
        p = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--child", spec, resfile],
            cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True)
        try:
            status = p.wait(timeout)
        except subprocess.TimeoutExpired:
            status = None
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
        log.close()
        try:
            with open(resfile) as f:
                sys.stdout.write(f.read())
        except OSError:
            pass
        if status is None:
            print("RES TIMEOUT %s" % mod)
        elif status != 0:
            print("RES CRASH %s (status %d)" % (mod, status))
        print("MODULE %s %.1fs" % (mod, time.monotonic() - start))
        sys.stdout.flush()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1:])
