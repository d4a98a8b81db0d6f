/** Milliseconds since the epoch. Time enters the core only as data carried by events. */
export type Time = number;
