import mqttPacket from 'mqtt-packet';

/**
 * mqtt-packet (under aedes and mqtt.js) builds, on the first packet it writes, a table of the
 * 65,536 two-byte numbers as Buffers: 7 MB of the event loop's heap (a heap snapshot of
 * bench:cloud), 65,536 objects every full collection walks, for saving a 2-byte allocation per
 * packet id or topic length written (a Pi's agent pays it as much as the processor). Turned off
 * before any packet is written: `mqtt-options.ts` imports this module, so it runs when a process
 * loads `@tributary/runtime`, before any client or broker of the agent or the processor is made
 * (one module instance serves mqtt.js and aedes alike).
 */
mqttPacket.writeToStream.cacheNumbers = false;
