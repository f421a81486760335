// Preloaded into every fleet node (node --require, test/cluster/fleet.ts): the
// node's stdin is a pipe from the test process that started it, and when that
// process is gone (jest killed, or ended without its afterAll) the pipe closes
// and the node SIGKILLs itself; its mediasoup workers follow when their
// channel closes. So no node outlives the run. The fleet never writes to the
// pipe nor closes it.
'use strict';

process.stdin.on('end', () => process.kill(process.pid, 'SIGKILL'));
process.stdin.on('error', () => process.kill(process.pid, 'SIGKILL'));
process.stdin.resume();
