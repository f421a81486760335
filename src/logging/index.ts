export { createLogger, type CreateLoggerOptions, type Logger } from './createLogger';
export { bridgeMediasoupLogs } from './mediasoupLogBridge';
