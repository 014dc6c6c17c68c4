// A scenario's own devices: the extension point beside the NIC and the disk. A device is an
// interrupt source with a seeded stream of its own ("dev/<name>"), so its events replay with the
// seed and the other streams' draws stay where they were: it schedules events in virtual time,
// draws from its stream, and asserts its interrupt line; the driver's handler (request_irq on
// the same line) finds the device with the kernel API's device(spec). Device events do not keep a
// run alive (a run ends when its tasks do, as with the NIC). The shrinker removes NIC arrivals
// from a schedule, not a custom device's events: those replay from the recorded draws.
import type { Engine } from "../../sim/engine.ts";
import type { Rng } from "../../sim/rng.ts";
import { ScenarioError } from "../../sim/errors.ts";
import type { IrqChip } from "../irqchip.ts";

/** What a device can do. */
export interface DeviceApi {
  readonly name: string;
  readonly irq: number;
  /** A draw in [0, 1) from the device's own seeded stream. */
  random(): number;
  /** Virtual time now (ns). */
  now(): number;
  /** Runs `fire` at virtual time `t` (ns; not before now). */
  at(t: number, fire: () => void): void;
  /** Asserts the device's interrupt line. */
  raise(): void;
}

/**
 * A device of one's own (defineDevice): an interrupt source named `name` on line `irq`, with its
 * own seeded stream ("dev/NAME"); create() makes the run's instance, of type D, at boot, and
 * start() sets it going once setup is done. The driver finds it with device(spec).
 */
export interface DeviceSpec<D> {
  /** Its name (letters, digits, '-', '_'): its stream is "dev/<name>". */
  readonly name: string;
  /** Its interrupt line (IRQ number, 1..223). */
  readonly irq: number;
  /** The CPUs its interrupts go to (default: CPU0, or all of them with round-robin delivery). */
  readonly cpus?: readonly number[];
  /** "fixed": to the first of `cpus`; "round-robin": rotating among them. */
  readonly delivery?: "fixed" | "round-robin";
  /** Makes the device for one run, at boot (before the scenario's setup). */
  create(api: DeviceApi): D;
  /** Starts it once setup is done (e.g. schedules its first event). */
  start?(device: D): void;
}

/** A device for a scenario's `devices`. */
export function defineDevice<D>(spec: DeviceSpec<D>): DeviceSpec<D> {
  return spec;
}

const NAME = /^[A-Za-z][\w-]*$/;

/** One run's instance of a device, with its spec. */
export class DeviceInstance {
  readonly device: unknown;
  constructor(
    readonly spec: DeviceSpec<unknown>,
    engine: Engine,
    chip: IrqChip,
    rng: Rng,
  ) {
    if (typeof spec?.name !== "string" || !NAME.test(spec.name)) throw new ScenarioError(`a device's name must be letters, digits, '-' or '_' starting with a letter, got ${JSON.stringify(spec?.name)}`);
    if (!Number.isInteger(spec.irq) || spec.irq < 1 || spec.irq > 223) throw new ScenarioError(`device ${spec.name}: irq must be an integer from 1 to 223, got ${JSON.stringify(spec.irq)}`);
    const label = `dev/${spec.name}`;
    const irq = spec.irq;
    this.device = spec.create({
      name: spec.name,
      irq,
      random: () => rng.next(),
      now: () => engine.now,
      at: (t, fire) => {
        if (!(t >= engine.now)) throw new ScenarioError(`device ${spec.name}: an event at ${t} ns is before now (${engine.now} ns)`);
        engine.at(t, 1, label, fire, true);
      },
      raise: () => chip.raise(irq, engine.now),
    });
  }

  start(): void {
    this.spec.start?.(this.device);
  }
}
