/**
 * Hostile programs that try to escape the sandbox: the host's files, environment, network,
 * processes and signals, and state that could outlive the run. Each must be refused or contained.
 */
import assert from "node:assert/strict";
import { GUEST_ENV } from "../../src/sandbox/mod.ts";
import { type Case, HOST_FILE, MARKER_NAME, MARKER_VALUE } from "./_hostile-case.ts";

/** The cases, in the order they run. */
export const ESCAPE_CASES: Case[] = [
  // ---- escapes ----
  {
    name: "read /etc/passwd",
    code: "open('/etc/passwd').read()",
    outcome: "error",
    err: /^FileNotFoundError: .*'\/etc\/passwd'$/,
  },
  {
    name: "read this test file by its host path",
    code: `open(${JSON.stringify(HOST_FILE)}).read()`,
    outcome: "error",
    err: /^FileNotFoundError/,
  },
  {
    name: "read /proc/self/environ",
    code: "open('/proc/self/environ').read()",
    outcome: "error",
    err: /^FileNotFoundError/,
  },
  {
    name: "traverse out of /tmp",
    code: "open('/tmp/../../etc/passwd').read()",
    outcome: "error",
    err: /^FileNotFoundError/,
  },
  {
    name: "os.listdir('/')",
    code: "import os\nprint(sorted(os.listdir('/')), sorted(os.listdir('/tmp/../..')))",
    outcome: "ok",
    stdout: "['home', 'tmp', 'usr'] ['home', 'tmp', 'usr']\n",
  },
  {
    name: "host environment variables",
    code: "import os\nfor k, v in sorted(os.environ.items()): print(k + '=' + v)",
    outcome: "ok",
    check: (r) => {
      assert.ok(
        !r.stdout.includes(MARKER_NAME) && !r.stdout.includes(MARKER_VALUE),
        "the host's marker variable leaked",
      );
      assert.deepEqual(r.stdout.trimEnd().split("\n"), [...GUEST_ENV].sort());
    },
  },
  {
    name: "write outside /tmp",
    code: "open('/x', 'w')",
    outcome: "error",
    err: /^OSError: \[Errno \d+\] Read-only file system: '\/x'$/,
  },
  {
    name: "write into the stdlib via /tmp/..",
    code: "open('/tmp/../usr/evil.py', 'w')",
    outcome: "error",
    err: /Read-only file system/,
  },
  {
    name: "symlink to a host path",
    code: "import os\nos.symlink('/etc/passwd', '/tmp/l')",
    outcome: "error",
    err: /^PermissionError: .*Operation not permitted/,
  },
  {
    name: "fill /tmp with one file",
    code: "f = open('/tmp/x', 'wb')\nwhile True: f.write(b'x' * 2**20)",
    outcome: "error",
    err: /^OSError: \[Errno \d+\] No space left on device$/,
  },
  {
    name: "fill /tmp with files",
    code: "for i in range(10**6): open(f'/tmp/f{i}', 'w')",
    outcome: "error",
    err: /^OSError: .*No space left on device/,
  },
  {
    name: "sparse file far past the quota",
    code: "f = open('/tmp/x', 'wb')\nf.seek(10**12)\nf.write(b'x')\nf.close()",
    outcome: "error",
    err: /No space left on device/,
  },
  {
    name: "truncate to a terabyte",
    code: "import os\nopen('/tmp/x', 'w').close()\nos.truncate('/tmp/x', 2**40)",
    outcome: "error",
    err: /No space left on device/,
  },
  {
    name: "file descriptor exhaustion",
    code: "import os\nfor i in range(10**5): os.open('/usr/local/lib/python3.13/os.py', os.O_RDONLY)",
    outcome: "error",
    err: /^OSError: \[Errno 24\] Too many open files/,
  },
  {
    name: "deep directory tree",
    code: "import os\nos.makedirs('/tmp' + '/a' * 3000)",
    outcome: "error",
    err: /^(RecursionError|OSError)/,
  },
  {
    name: "import ctypes",
    code: "import ctypes",
    outcome: "error",
    err: /^ModuleNotFoundError: No module named '_ctypes'$/,
  },
  {
    name: "import _socket is harmless, socket() is not supported",
    code: "import _socket, socket\nsocket.socket()",
    outcome: "error",
    err: /^OSError: \[Errno 95\] Operation not supported$/,
  },
  {
    name: "connect to the host's loopback",
    code: "import socket\nsocket.create_connection(('127.0.0.1', 22))",
    outcome: "error",
    err: /^AttributeError: module '_socket' has no attribute 'getaddrinfo'$/,
  },
  {
    name: "subprocess",
    code: "import subprocess\nsubprocess.run(['ls'])",
    outcome: "error",
    err: /^OSError: .*wasi does not support processes/,
  },
  {
    name: "os.system",
    code: "import os\nos.system('ls')",
    outcome: "error",
    err: /^AttributeError: module 'os' has no attribute 'system'$/,
  },
  {
    name: "threads",
    code: "import threading\nt = threading.Thread(target=print)\nt.start()",
    outcome: "error",
    err: /^RuntimeError: can't start new thread$/,
  },
  {
    name: "os.fork",
    code: "import os\nos.fork()",
    outcome: "error",
    err: /^AttributeError: module 'os' has no attribute 'fork'$/,
  },
  {
    name: "os.kill",
    code: "import os\nos.kill(os.getpid(), 9)",
    outcome: "error",
    err: /^AttributeError: module 'os' has no attribute 'kill'$/,
  },
  {
    name: "signal.alarm",
    code: "import signal\nsignal.signal(signal.SIGALRM, lambda *a: None)\nsignal.alarm(1)",
    outcome: "error",
    err: /^AttributeError: module 'signal' has no attribute 'alarm'$/,
  },
  {
    name: "multiprocessing",
    code: "import multiprocessing\nmultiprocessing.Pool(2)",
    outcome: "error",
    err: /^AttributeError/,
  },
  {
    name: "poisoning builtins and sys.modules stays in this run",
    code: "import builtins, sys\nbuiltins.print = None\nsys.modules['os'] = None",
    outcome: "ok",
  },
];
