import mqttPacket from 'mqtt-packet';

/**
 * mqtt-packet (under aedes and mqtt.js) builds, on the first packet it writes, a table of the
 * 65,536 two-byte numbers as Buffers: 7 MB of the event loop's heap (a heap snapshot of
 * bench:cloud), 65,536 objects every full collection walks, for saving a 2-byte allocation per
 * packet id or topic length written. Turned off before any packet is written (both the embedded
 * broker and the ingest's client import this module); one module instance serves both.
 */
mqttPacket.writeToStream.cacheNumbers = false;
