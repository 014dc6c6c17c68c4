// The machine: CPUs, the interrupt controller, the per-CPU timers and the devices, all driven by
// one engine. Devices draw from their own labelled seeded streams.
import { Tlb, DEFAULT_TLB, type TlbConfig } from "./mmu/tlb.ts";
import { Caches, DEFAULT_CACHE, DEFAULT_CACHE_COSTS, type CacheConfig, type CacheCosts } from "./mmu/cache.ts";
import type { Engine } from "../sim/engine.ts";
import type { Streams } from "../sim/rng.ts";
import { Cpu } from "./cpu.ts";
import { IrqChip } from "./irqchip.ts";
import { LapicTimer } from "./devices/lapic_timer.ts";
import { Nic, type NicConfig } from "./devices/nic.ts";
import { Disk, type DiskConfig } from "./devices/disk.ts";
import { DeviceInstance, type DeviceSpec } from "./devices/device.ts";
import { DEFAULT_COSTS, type Costs } from "./costs.ts";
import { ScenarioError } from "../sim/errors.ts";

export const MAX_CPUS = 64;

export interface HwConfig {
  readonly cpus: number;
  readonly costs?: Costs;
  /** Each CPU's data TLB (default: 64 4 KiB entries 4-way, 32 large entries 4-way). */
  readonly tlb?: TlbConfig;
  /** Each CPU's data cache (default: 32 KiB, 8-way, 64-byte lines, write-back). */
  readonly cache?: CacheConfig;
  readonly cache_costs?: CacheCosts;
  /** Scripted device event times by stream label (src/sim/script.ts): those devices draw nothing. */
  readonly arrivals?: Readonly<Record<string, readonly number[]>>;
}

export class Machine {
  readonly cpus: Cpu[];
  readonly irqchip: IrqChip;
  readonly timer: LapicTimer;
  readonly costs: Costs;
  readonly nics: Nic[] = [];
  /** One TLB per CPU, by CPU id. */
  readonly tlbs: Tlb[];
  /** The CPUs' data caches, kept coherent with MESI. */
  readonly caches: Caches;
  readonly disks: Disk[] = [];
  /** The scenario's own devices (devices/device.ts), by name. */
  readonly devices = new Map<string, DeviceInstance>();

  constructor(readonly engine: Engine, readonly streams: Streams, private readonly config: HwConfig) {
    if (!Number.isInteger(config.cpus) || config.cpus < 1 || config.cpus > MAX_CPUS) {
      throw new ScenarioError(`cpus must be an integer from 1 to ${MAX_CPUS}, got ${config.cpus}`);
    }
    this.cpus = Array.from({ length: config.cpus }, (_, i) => new Cpu(i, engine));
    this.irqchip = new IrqChip(this.cpus);
    this.timer = new LapicTimer(engine, this.cpus);
    this.costs = config.costs ?? DEFAULT_COSTS;
    this.tlbs = this.cpus.map(() => new Tlb(config.tlb ?? DEFAULT_TLB));
    this.caches = new Caches(config.cpus, config.cache ?? DEFAULT_CACHE, config.cache_costs ?? DEFAULT_CACHE_COSTS);
    engine.lanes = this.cpus;
  }

  addNic(config: NicConfig): Nic {
    const label = `nic/${config.name}`;
    const nic = new Nic(config, this.engine, this.irqchip, this.streams.stream(label), this.config.arrivals?.[label] ?? (this.config.arrivals !== undefined ? [] : undefined));
    this.nics.push(nic);
    return nic;
  }

  addDevice(spec: DeviceSpec<unknown>): DeviceInstance {
    if (this.devices.has(spec.name)) throw new ScenarioError(`two devices are named "${spec.name}"`);
    const d = new DeviceInstance(spec, this.engine, this.irqchip, this.streams.stream(`dev/${spec.name}`));
    this.devices.set(spec.name, d);
    return d;
  }

  addDisk(config: DiskConfig): Disk {
    const disk = new Disk(config, this.engine, this.irqchip, this.streams.stream(`disk/${config.name}`));
    this.disks.push(disk);
    return disk;
  }
}
