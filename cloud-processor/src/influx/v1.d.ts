import type { InfluxConfig } from '@tributary/firmware-schemas';
import { type WriteTarget } from './target.js';
/**
 * InfluxDB 1.x: POST `/write?db=&rp=&precision=ms`, HTTP basic auth when a username is set.
 * On start, creates the database (`CREATE DATABASE`) and the retention policy when allowed.
 */
export declare class InfluxV1Target implements WriteTarget {
    private readonly config;
    readonly description: string;
    readonly canCreate: boolean;
    private readonly client;
    private readonly writeUrl;
    private readonly headers;
    constructor(config: InfluxConfig);
    write(body: Buffer, gzipped: boolean): Promise<void>;
    ensure(): Promise<void>;
    close(): void;
    /** Runs one InfluxQL statement through POST /query; throws the typed error of a failure. */
    private query;
}
