/**
 * The composition contract (infra/asl-compose.ts) on the real files: the composed build machine has the expected
 * shape, and each refusal is reached by one mutation of the real parent or child, failing for its own reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AslCompositionError, composeStateMachine, INCLUDE_TYPE, transitionsOf } from '../../infra/asl-compose.ts';
import { loadStateMachine } from '../../infra/asl-files.ts';
import { PROJECT_ROOT } from '../../infra/kiln-app.ts';
import { FIXTURE_DIR } from './helpers.ts';

type Json = Record<string, unknown>;
type States = Record<string, Json>;

const PARENT = 'build.asl.json';
const CHILD = 'drivers/ec2-ami.asl.json';
/** The second driver file: present as is in every composition below, so each refusal has one cause. */
const DOCKER = 'drivers/ec2-docker.asl.json';
const AGENT = 'drivers/agent.asl.json';
const parentText = readFileSync(join(PROJECT_ROOT, 'statemachines', PARENT), 'utf8');
const childText = readFileSync(join(PROJECT_ROOT, 'statemachines', CHILD), 'utf8');
const dockerText = readFileSync(join(PROJECT_ROOT, 'statemachines', DOCKER), 'utf8');
const agentText = readFileSync(join(PROJECT_ROOT, 'statemachines', AGENT), 'utf8');

/** Composes mutated copies of the real files (plus any extra child files) in memory. */
function compose(
  mutate: { parent?: (parent: Json) => void; child?: (child: Json) => void } = {},
  extra: Record<string, string> = {},
) {
  const parent = JSON.parse(parentText) as Json;
  const child = JSON.parse(childText) as Json;
  mutate.parent?.(parent);
  mutate.child?.(child);
  const files: Record<string, string> = {
    [CHILD]: JSON.stringify(child),
    [DOCKER]: dockerText,
    [AGENT]: agentText,
    ...extra,
  };
  return composeStateMachine({ name: PARENT, text: JSON.stringify(parent) }, (name) => files[name]);
}

const mapStates = (parent: Json) => (((parent.States as States).Builds as Json).ItemProcessor as Json).States as States;
const childStates = (child: Json) => child.States as States;
const include = (parent: Json) => mapStates(parent).Ec2AmiDriver as Json;

/** The refusal message, asserting it is a composition refusal (not a crash). */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AslCompositionError);
    return (error as Error).message;
  }
  throw new Error('composition was not refused');
}

describe('the composed build state machine', () => {
  const composed = loadStateMachine(join(PROJECT_ROOT, 'statemachines', PARENT));
  const definition = composed.definition as Json;
  const edges = (states: States) =>
    Object.fromEntries(
      Object.entries(states).map(([name, state]) => [name, [...new Set(transitionsOf(state).map((t) => t.target))]]),
    );

  it('reads the parent, then the ec2-ami, ec2-docker and agent drivers', () => {
    expect(composed.files.map((file) => file.name)).toEqual([PARENT, CHILD, DOCKER, AGENT]);
  });

  it('keeps the top level: PrepareBuild → IsTemplate → Builds (Map) → Finalize → AllBuildsSucceeded', () => {
    expect(definition.StartAt).toBe('PrepareBuild');
    expect(edges(definition.States as States)).toEqual({
      PrepareBuild: ['IsTemplate', 'RecordPrepareFailure'],
      RecordPrepareFailure: ['PrepareFailed'],
      PrepareFailed: [],
      IsTemplate: ['Builds', 'NotATemplate'],
      NotATemplate: [],
      Builds: ['Finalize'],
      Finalize: ['AllBuildsSucceeded'],
      AllBuildsSucceeded: ['BuildsFailed', 'Succeeded'],
      Succeeded: [],
      BuildsFailed: [],
    });
  });

  it('puts the driver chain in place of the include, entered at LaunchBuilder, leaving to BuildSucceeded or Cleanup', () => {
    const processor = (definition.States as States).Builds?.ItemProcessor as Json;
    // The fleet bound's slot loop comes first (test/statemachines/fleet-asl.test.ts), then the driver router.
    expect(processor.StartAt).toBe('NeedsSlot');
    // In the order of the one-file definition: the shared states before and after the include, the chain between.
    const all = edges(processor.States as States);
    const others = [dockerText, agentText].flatMap((text) => Object.keys(childStates(JSON.parse(text))));
    const withoutDocker = Object.fromEntries(Object.entries(all).filter(([name]) => !others.includes(name)));
    expect(all.RouteDriver).toEqual(['DriverUnavailable', 'LaunchBuilder', 'DockerLaunchHost', 'AgentRunJob']);
    expect({
      ...withoutDocker,
      RouteDriver: all.RouteDriver?.filter((n) => n !== 'DockerLaunchHost' && n !== 'AgentRunJob'),
    }).toEqual({
      NeedsSlot: ['RouteDriver', 'AcquireSlot'],
      AcquireSlot: ['SlotAcquired', 'SlotThrottled', 'SlotUnavailable'],
      SlotAcquired: ['WaitForSlot', 'RouteDriver'],
      WaitForSlot: ['AcquireSlot'],
      SlotThrottled: ['WaitForSlot'],
      SlotUnavailable: ['ReleaseSlot'],
      RouteDriver: ['DriverUnavailable', 'LaunchBuilder'],
      DriverUnavailable: [],
      LaunchBuilder: ['WaitManaged', 'Cleanup'],
      WaitManaged: ['CheckManaged'],
      CheckManaged: ['ManagedChoice', 'Cleanup'],
      ManagedChoice: ['WaitManaged', 'ProvisionLoop'],
      ProvisionLoop: ['CreateImage', 'RunProvisioner'],
      RunProvisioner: ['ProvisionerStarted', 'Cleanup'],
      ProvisionerStarted: ['PauseBefore', 'ProvisionLoop', 'WaitCommand'],
      PauseBefore: ['RunProvisioner'],
      WaitCommand: ['CheckCommand'],
      CheckCommand: ['CommandChoice', 'Cleanup'],
      CommandChoice: ['WaitCommand', 'RunProvisioner', 'ProvisionLoop'],
      CreateImage: ['ImageRequested', 'Cleanup'],
      ImageRequested: ['WaitStopped', 'WaitImage'],
      WaitStopped: ['CreateImage'],
      WaitImage: ['CheckImage'],
      CheckImage: ['ImageChoice', 'Cleanup'],
      ImageChoice: ['WaitImage', 'Terminate'],
      Terminate: ['Distribute', 'Cleanup'],
      Distribute: ['DistributeChoice', 'Cleanup'],
      DistributeChoice: ['WaitCopies', 'Cleanup', 'PublishImage'],
      WaitCopies: ['CheckCopies'],
      CheckCopies: ['CopiesChoice', 'Cleanup'],
      CopiesChoice: ['WaitCopies', 'PublishImage'],
      PublishImage: ['BuildSucceeded', 'Cleanup'],
      BuildSucceeded: ['ReleaseSlot'],
      Cleanup: ['ReleaseSlot', 'CleanupFailed'],
      CleanupFailed: ['ReleaseSlot'],
      ReleaseSlot: ['ReleaseThrottled', 'SlotReleaseFailed'],
      ReleaseThrottled: ['WaitToRelease'],
      WaitToRelease: ['ReleaseSlot'],
      SlotReleaseFailed: [],
    });
    expect(composed.text).not.toContain(INCLUDE_TYPE);
  });

  it('puts the docker chain in place of its include, entered at DockerLaunchHost, leaving to BuildSucceeded or Cleanup', () => {
    const processor = (definition.States as States).Builds?.ItemProcessor as Json;
    const all = edges(processor.States as States);
    const docker = Object.keys(childStates(JSON.parse(dockerText)));
    expect(Object.fromEntries(docker.map((name) => [name, all[name]]))).toEqual({
      DockerLaunchHost: ['DockerWaitOnline', 'Cleanup'],
      DockerWaitOnline: ['DockerCheckOnline'],
      DockerCheckOnline: ['DockerOnlineChoice', 'Cleanup'],
      DockerOnlineChoice: ['DockerWaitOnline', 'DockerStepLoop'],
      DockerStepLoop: ['DockerTerminate', 'DockerRunStep'],
      DockerRunStep: ['DockerStepStarted', 'Cleanup'],
      DockerStepStarted: ['DockerPauseBefore', 'DockerStepLoop', 'DockerWaitCommand'],
      DockerPauseBefore: ['DockerRunStep'],
      DockerWaitCommand: ['DockerCheckCommand'],
      DockerCheckCommand: ['DockerCommandChoice', 'Cleanup'],
      DockerCommandChoice: ['DockerWaitCommand', 'DockerRunStep', 'DockerStepLoop'],
      DockerTerminate: ['DockerRecordImages', 'Cleanup'],
      DockerRecordImages: ['BuildSucceeded', 'Cleanup'],
    });
  });

  it('puts the agent task in place of its include: success to BuildSucceeded, named failures to Cleanup', () => {
    const processor = (definition.States as States).Builds?.ItemProcessor as Json;
    const all = edges(processor.States as States);
    expect({
      AgentRunJob: all.AgentRunJob,
      AgentGatewaySilent: all.AgentGatewaySilent,
      AgentJobTimedOut: all.AgentJobTimedOut,
    }).toEqual({
      AgentRunJob: ['BuildSucceeded', 'AgentGatewaySilent', 'AgentJobTimedOut', 'Cleanup'],
      AgentGatewaySilent: ['Cleanup'],
      AgentJobTimedOut: ['Cleanup'],
    });
    const task = (processor.States as States).AgentRunJob as Json;
    expect(task).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: '${EnqueueAgentJobFunctionArn}', Payload: { 'taskToken.$': '$$.Task.Token' } },
      HeartbeatSeconds: 300,
    });
  });

  it('attributes each state to its file: 10 + 15 in the parent, 24 in the ami driver, 13 in the docker driver, 3 in the agent driver', () => {
    const byFile = (file: string) => [...composed.stateFiles].filter(([, f]) => f === file).map(([name]) => name);
    expect(byFile(PARENT)).toHaveLength(25);
    expect(byFile(CHILD)).toHaveLength(24);
    expect(byFile(DOCKER)).toEqual(Object.keys(childStates(JSON.parse(dockerText))));
    expect(byFile(DOCKER)).toHaveLength(13);
    expect(byFile(CHILD)).toEqual(Object.keys(childStates(JSON.parse(childText))));
    expect(byFile(AGENT)).toEqual(['AgentRunJob', 'AgentGatewaySilent', 'AgentJobTimedOut']);
  });

  it('copies the child states unchanged (Retry, Catch, Resource as written)', () => {
    const processor = (definition.States as States).Builds?.ItemProcessor as Json;
    for (const [name, state] of Object.entries(childStates(JSON.parse(childText)))) {
      expect((processor.States as States)[name], name).toEqual(state);
    }
  });

  it('leaves a parent without includes as it is', () => {
    const fixture = readFileSync(join(FIXTURE_DIR, 'statemachines/build.asl.json'), 'utf8');
    const result = composeStateMachine({ name: PARENT, text: fixture }, () => undefined);
    expect(result.definition).toEqual(JSON.parse(fixture));
  });
});

describe('refusals', () => {
  it('an include naming a child file that does not exist', () => {
    const message = refusal(() =>
      compose({
        parent: (p) => {
          include(p).File = 'drivers/ec2-dockr.asl.json';
        },
      }),
    );
    expect(message).toBe(`${PARENT}: include state Ec2AmiDriver: drivers/ec2-dockr.asl.json does not exist`);
  });

  it('an include whose File leaves the parent folder', () => {
    const message = refusal(() =>
      compose({
        parent: (p) => {
          include(p).File = '../elsewhere/ec2-ami.asl.json';
        },
      }),
    );
    expect(message).toMatch(/include state Ec2AmiDriver: File must be a relative path .* below the parent's folder/);
  });

  it('a child state with the name of a parent state in the same block', () => {
    const message = refusal(() =>
      compose({
        child: (c) => {
          childStates(c).Cleanup = { Type: 'Pass', End: true };
        },
      }),
    );
    expect(message).toBe(
      `state Cleanup is defined in both ${CHILD} and ${PARENT}: names are unique across a parent and its children`,
    );
  });

  it('a child state with the name of a parent state in another block (Finalize, at the top level)', () => {
    const message = refusal(() =>
      compose({
        child: (c) => {
          childStates(c).Finalize = { Type: 'Pass', End: true };
        },
      }),
    );
    expect(message).toBe(
      `state Finalize is defined in both ${CHILD} and ${PARENT}: names are unique across a parent and its children`,
    );
  });

  it('a child state with the name of the include it replaces', () => {
    const message = refusal(() =>
      compose({
        child: (c) => {
          childStates(c).Ec2AmiDriver = { Type: 'Pass', Next: 'LaunchBuilder' };
          c.StartAt = 'Ec2AmiDriver';
        },
      }),
    );
    expect(message).toBe(`${CHILD}: state Ec2AmiDriver has the name of an include state of ${PARENT}`);
  });

  it('a child Next that exists nowhere', () => {
    const message = refusal(() =>
      compose({
        child: (c) => {
          (childStates(c).CheckImage as Json).Next = 'ImageChoise';
        },
      }),
    );
    expect(message).toBe(`${CHILD}: CheckImage.Next → ImageChoise: no state of that name anywhere`);
  });

  it('a child Catch target that exists nowhere', () => {
    const message = refusal(() =>
      compose({
        child: (c) => {
          const catchers = (childStates(c).LaunchBuilder as Json).Catch as Json[];
          (catchers[0] as Json).Next = 'Cleanpu';
        },
      }),
    );
    expect(message).toBe(`${CHILD}: LaunchBuilder.Catch[0].Next → Cleanpu: no state of that name anywhere`);
  });

  it('a parent Default that exists nowhere', () => {
    const message = refusal(() =>
      compose({
        parent: (p) => {
          (mapStates(p).RouteDriver as Json).Default = 'DriverUnavailabel';
        },
      }),
    );
    expect(message).toBe(`${PARENT}: RouteDriver.Default → DriverUnavailabel: no state of that name anywhere`);
  });

  it('a parent Next into another block (a Map state naming a top-level state)', () => {
    const message = refusal(() =>
      compose({
        parent: (p) => {
          const succeeded = mapStates(p).BuildSucceeded as Json;
          delete succeeded.End;
          succeeded.Next = 'Finalize';
        },
      }),
    );
    expect(message).toMatch(/^build\.asl\.json: BuildSucceeded\.Next → Finalize: a state of another block/);
  });

  it('a child state nothing reaches', () => {
    const message = refusal(() =>
      compose({
        child: (c) => {
          childStates(c).Orphan = { Type: 'Pass', Next: 'PublishImage' };
        },
      }),
    );
    expect(message).toBe(
      `${PARENT}: Builds.ItemProcessor: unreachable after composition (from NeedsSlot): Orphan (${CHILD})`,
    );
  });

  it('a child nobody routes to: all its states are unreachable', () => {
    const message = refusal(() =>
      compose({
        parent: (p) => {
          const route = mapStates(p).RouteDriver as Json;
          route.Choices = [{ Variable: '$.state.driver', StringEquals: 'ec2-ami', Next: 'DriverUnavailable' }];
        },
      }),
    );
    expect(message).toMatch(/unreachable after composition \(from NeedsSlot\): LaunchBuilder \(drivers\/ec2-ami/);
  });

  it('a child going to a parent state its include does not list in Exits', () => {
    const message = refusal(() =>
      compose({
        child: (c) => {
          (childStates(c).PublishImage as Json).Next = 'CleanupFailed';
        },
      }),
    );
    expect(message).toBe(
      `${CHILD}: PublishImage.Next → CleanupFailed: a state of ${PARENT} that the include Ec2AmiDriver does not list in Exits (allowed: BuildSucceeded, Cleanup)`,
    );
  });

  it('a child Catch to Cleanup once the include no longer lists it', () => {
    const message = refusal(() =>
      compose({
        parent: (p) => {
          include(p).Exits = ['BuildSucceeded'];
        },
      }),
    );
    expect(message).toBe(
      `${CHILD}: LaunchBuilder.Catch[0].Next → Cleanup: a state of ${PARENT} that the include Ec2AmiDriver does not list in Exits (allowed: BuildSucceeded)`,
    );
  });

  it('the parent naming a state inside the child instead of the include', () => {
    const message = refusal(() =>
      compose({
        parent: (p) => {
          const route = mapStates(p).RouteDriver as Json;
          ((route.Choices as Json[])[0] as Json).Next = 'LaunchBuilder';
        },
      }),
    );
    expect(message).toBe(
      `${PARENT}: RouteDriver.Choices[0].Next → LaunchBuilder: a state of ${CHILD}; the parent enters a child only through its include state (Ec2AmiDriver)`,
    );
  });

  it('Exits naming a state that is not beside the include', () => {
    const message = refusal(() =>
      compose({
        parent: (p) => {
          include(p).Exits = ['BuildSucceeded', 'Cleanup', 'Finalize'];
        },
      }),
    );
    expect(message).toBe(
      `${PARENT}: include state Ec2AmiDriver: Exits names Finalize, which is not a state beside the include`,
    );
  });

  it('an include inside a child (one level only)', () => {
    const message = refusal(() =>
      compose(
        {
          child: (c) => {
            childStates(c).Nested = { Type: INCLUDE_TYPE, File: 'drivers/other.asl.json' };
          },
        },
        { 'drivers/other.asl.json': '{"StartAt":"X","States":{"X":{"Type":"Succeed"}}}' },
      ),
    );
    expect(message).toBe(`${CHILD}: Nested includes a file; only the parent may include (one level)`);
  });

  it('a child file with fields beyond Comment, StartAt and States (they would be dropped)', () => {
    const message = refusal(() =>
      compose({
        child: (c) => {
          c.TimeoutSeconds = 3600;
        },
      }),
    );
    expect(message).toBe(`${CHILD}: a child file holds only Comment, StartAt and States (found TimeoutSeconds)`);
  });

  it('a child whose StartAt is not one of its states', () => {
    const message = refusal(() =>
      compose({
        child: (c) => {
          c.StartAt = 'Cleanup';
        },
      }),
    );
    expect(message).toBe(`${CHILD}: StartAt must name one of its states`);
  });

  it('an include with a field the contract does not know', () => {
    const message = refusal(() =>
      compose({
        parent: (p) => {
          include(p).Next = 'BuildSucceeded';
        },
      }),
    );
    expect(message).toBe(`${PARENT}: include state Ec2AmiDriver: unknown field(s) Next`);
  });

  it('a child that is not JSON, naming it', () => {
    const message = refusal(() =>
      composeStateMachine({ name: PARENT, text: parentText }, (name) => (name === CHILD ? '{ "StartAt": ' : undefined)),
    );
    expect(message).toBe(`${CHILD} is not valid JSON`);
  });
});
