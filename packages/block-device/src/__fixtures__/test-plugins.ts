import { z } from "zod";
import type { BlockDeviceNode, BlockDevicePlugin, NodeContext } from "../plugin.js";

/** Like DIB's test_a/test_b plugins: they write to the state, and log what they are asked. */
export interface Recorder {
  calls: string[];
}

const testSchema = z.strictObject({
  name: z.string(),
  base: z.string().optional(),
  rollback_one_arg: z.string().optional(),
  rollback_two_arg: z.string().optional(),
  trigger_rollback: z.boolean().optional(),
  /** Acquire a (harmless) ledger resource in create. */
  hold: z.string().optional(),
});
type TestConfig = z.infer<typeof testSchema>;

function testPlugin(name: "test_a" | "test_b", recorder: Recorder): BlockDevicePlugin<TestConfig> {
  return {
    name,
    schema: testSchema,
    nodes: ({ config }) => {
      const node: BlockDeviceNode = {
        name: config.name,
        after: config.base ? [config.base] : [],
        async create(ctx: NodeContext) {
          recorder.calls.push(`create ${config.name}`);
          if (name === "test_a") ctx.state.test_a = { value: "foo", value2: "bar" };
          else ctx.state.test_b = { value: "baz" };
          if (config.hold) await ctx.ledger.chroot(config.hold);
          if (config.trigger_rollback) throw new Error(`${config.name} failed on purpose`);
        },
        async rollback(ctx: NodeContext) {
          recorder.calls.push(`rollback ${config.name}`);
          const log = (ctx.state.rollback_test ?? []) as string[];
          ctx.state.rollback_test = log;
          // DIB registers one then two and runs them newest first.
          if (config.rollback_two_arg) log.push(config.rollback_two_arg);
          if (config.rollback_one_arg) log.push(config.rollback_one_arg);
        },
        async umount() {
          recorder.calls.push(`umount ${config.name}`);
        },
        async cleanup() {
          recorder.calls.push(`cleanup ${config.name}`);
        },
        async delete() {
          recorder.calls.push(`delete ${config.name}`);
        },
      };
      return [node];
    },
  };
}

export function testPlugins(recorder: Recorder = { calls: [] }) {
  return [testPlugin("test_a", recorder), testPlugin("test_b", recorder)];
}
