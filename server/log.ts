/** The server's log function: one line per call, filtered by LOG_LEVEL at the entry point. */
export type Logger = (level: 'info' | 'warn' | 'error', msg: string) => void;
