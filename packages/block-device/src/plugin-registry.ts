import { DibError } from "@dib/host";
import type { BlockDevicePlugin } from "./plugin.js";

// A plugin's config type only matters inside the plugin; the registry holds any of them.
// biome-ignore lint/suspicious/noExplicitAny: the registry is heterogeneous by design
export type AnyBlockDevicePlugin = BlockDevicePlugin<any>;

/** The levels a block device is built from, by their YAML key. */
export class PluginRegistry {
  private readonly byName = new Map<string, AnyBlockDevicePlugin>();

  constructor(plugins: readonly AnyBlockDevicePlugin[]) {
    for (const plugin of plugins) {
      if (this.byName.has(plugin.name)) {
        throw new DibError("DIB_INTERNAL", `two block-device plugins are called ${plugin.name}`, {
          hint: "register each level once",
        });
      }
      this.byName.set(plugin.name, plugin);
    }
  }

  get names(): ReadonlySet<string> {
    return new Set(this.byName.keys());
  }

  get(name: string): AnyBlockDevicePlugin | undefined {
    return this.byName.get(name);
  }

  list(): AnyBlockDevicePlugin[] {
    return [...this.byName.values()];
  }
}
