/**
 * What a write target's answer means for the caller, as error classes with stable codes (never
 * branch on `message`). The mapping from HTTP statuses is in `response.ts`.
 */
export declare abstract class InfluxWriteError extends Error {
    abstract readonly code: string;
    /** The HTTP status, when InfluxDB answered at all. */
    readonly status: number | undefined;
    constructor(message: string, status?: number, options?: ErrorOptions);
}
/** Try the same request again later: 429, 5xx, timeouts, refused or reset connections. */
export declare class RetryableError extends InfluxWriteError {
    readonly code = "INFLUX_RETRYABLE";
    /** What the server asked for (Retry-After), in ms; the caller waits at least its own backoff. */
    readonly retryAfterMs: number | undefined;
    constructor(message: string, status?: number, retryAfterMs?: number, options?: ErrorOptions);
}
/** The points themselves were refused (400, 422): sending them again cannot succeed. */
export declare class PermanentError extends InfluxWriteError {
    readonly code: string;
}
/**
 * Some points were refused and the others written (InfluxDB 1.x/2.x "partial write", e.g. a field
 * type conflict or points beyond the retention policy). `dropped` is the server's count, when given.
 */
export declare class PartialWriteError extends PermanentError {
    readonly code = "INFLUX_PARTIAL_WRITE";
    readonly dropped: number | undefined;
    constructor(message: string, status: number, dropped: number | undefined);
}
/** 413: the request is too large for the server; split it. */
export declare class TooLargeError extends InfluxWriteError {
    readonly code = "INFLUX_TOO_LARGE";
}
/** 401/403: credentials missing, wrong or without write permission. Fail loudly; no ack until fixed. */
export declare class AuthError extends InfluxWriteError {
    readonly code = "INFLUX_UNAUTHORIZED";
}
/** 404: the database (1.x) or bucket/org (2.x) does not exist. */
export declare class NotFoundError extends InfluxWriteError {
    readonly code = "INFLUX_NOT_FOUND";
}
/** Raised when a write is abandoned because the processor is stopping. */
export declare class WriteAbortedError extends Error {
    readonly code = "WRITE_ABORTED";
}
