import util from 'node:util';
import createDebug from 'debug';
import type { Logger } from './createLogger';

/**
 * Routes mediasoup's own log lines (it logs through the `debug` package under
 * the `mediasoup:` namespaces, with `:WARN` and `:ERROR` in the name for those
 * levels, and relays the workers' lines the same way) into the winston logger.
 */
export function bridgeMediasoupLogs(logger: Logger): void {
	const child = logger.child({ module: 'mediasoup' });
	const verbose = logger.isLevelEnabled('debug');
	createDebug.enable(verbose ? 'mediasoup*' : 'mediasoup:WARN*,mediasoup:ERROR*,mediasoup-worker:WARN*,mediasoup-worker:ERROR*');
	// NOTE: debug prefixes the namespace and a time diff in formatArgs; winston
	// adds its own timestamp, and the namespace goes in a field instead.
	createDebug.formatArgs = function formatArgs() {};
	createDebug.log = function log(this: createDebug.Debugger, ...args: unknown[]) {
		const namespace = this.namespace;
		const level = namespace.includes(':ERROR') ? 'error' : namespace.includes(':WARN') ? 'warn' : 'debug';
		child.log(level, util.format(...args), { namespace });
	};
}
