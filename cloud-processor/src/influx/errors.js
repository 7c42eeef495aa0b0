/**
 * What a write target's answer means for the caller, as error classes with stable codes (never
 * branch on `message`). The mapping from HTTP statuses is in `response.ts`.
 */
export class InfluxWriteError extends Error {
    /** The HTTP status, when InfluxDB answered at all. */
    status;
    constructor(message, status, options) {
        super(message, options);
        this.status = status;
    }
}
/** Try the same request again later: 429, 5xx, timeouts, refused or reset connections. */
export class RetryableError extends InfluxWriteError {
    code = 'INFLUX_RETRYABLE';
    /** What the server asked for (Retry-After), in ms; the caller waits at least its own backoff. */
    retryAfterMs;
    constructor(message, status, retryAfterMs, options) {
        super(message, status, options);
        this.retryAfterMs = retryAfterMs;
    }
}
/** The points themselves were refused (400, 422): sending them again cannot succeed. */
export class PermanentError extends InfluxWriteError {
    code = 'INFLUX_REJECTED';
}
/**
 * Some points were refused and the others written (InfluxDB 1.x/2.x "partial write", e.g. a field
 * type conflict or points beyond the retention policy). `dropped` is the server's count, when given.
 */
export class PartialWriteError extends PermanentError {
    code = 'INFLUX_PARTIAL_WRITE';
    dropped;
    constructor(message, status, dropped) {
        super(message, status);
        this.dropped = dropped;
    }
}
/** 413: the request is too large for the server; split it. */
export class TooLargeError extends InfluxWriteError {
    code = 'INFLUX_TOO_LARGE';
}
/** 401/403: credentials missing, wrong or without write permission. Fail loudly; no ack until fixed. */
export class AuthError extends InfluxWriteError {
    code = 'INFLUX_UNAUTHORIZED';
}
/** 404: the database (1.x) or bucket/org (2.x) does not exist. */
export class NotFoundError extends InfluxWriteError {
    code = 'INFLUX_NOT_FOUND';
}
/** Raised when a write is abandoned because the processor is stopping. */
export class WriteAbortedError extends Error {
    code = 'WRITE_ABORTED';
}
//# sourceMappingURL=errors.js.map