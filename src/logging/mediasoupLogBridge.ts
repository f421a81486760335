import util from 'node:util';
import createDebug from 'debug';
import type { Logger } from './createLogger';

// mediasoup logs through the `debug` package under `mediasoup:` namespaces
// (`:WARN` / `:ERROR` in the name for those levels) and relays its workers'
// lines the same way. Each of its loggers sets its own `log` to a console
// method, so the bridge hooks the creation of `debug` instances: this module
// must load before mediasoup does (src/media/mediasoup.ts imports it first).
// Lines are dropped until bridgeMediasoupLogs() names the logger.

let sink: Logger | undefined;

function isMediasoup(namespace: string): boolean {
	return namespace.startsWith('mediasoup');
}

function bridgedLog(this: createDebug.Debugger, ...args: unknown[]): void {
	const namespace = this.namespace;
	const level = namespace.includes(':ERROR') ? 'error' : namespace.includes(':WARN') ? 'warn' : 'debug';
	sink?.log(level, util.format(...args), { namespace });
}

// `init` is called for every new instance; @types/debug does not declare it.
const hooks = createDebug as unknown as { init?: (instance: createDebug.Debugger) => void };
const originalInit = hooks.init;
hooks.init = function init(instance: createDebug.Debugger) {
	originalInit?.call(createDebug, instance);
	if (isMediasoup(instance.namespace)) {
		Object.defineProperty(instance, 'log', { get: () => bridgedLog, set: () => {}, configurable: true });
	}
};

// NOTE: debug prefixes a date and the namespace in formatArgs; winston adds its
// own timestamp and the namespace goes in a field instead.
const originalFormatArgs = createDebug.formatArgs;
createDebug.formatArgs = function formatArgs(this: createDebug.Debugger, args: unknown[]) {
	if (!isMediasoup(this.namespace)) {
		originalFormatArgs.call(this, args);
	}
};

/** Routes mediasoup's log lines into `logger` (module "mediasoup"): warnings and errors, everything at debug level. */
export function bridgeMediasoupLogs(logger: Logger): void {
	sink = logger.child({ module: 'mediasoup' });
	const others = process.env.DEBUG ? `,${process.env.DEBUG}` : '';
	createDebug.enable(logger.isLevelEnabled('debug') ? `mediasoup*${others}` : `mediasoup:WARN*,mediasoup:ERROR*${others}`);
}
