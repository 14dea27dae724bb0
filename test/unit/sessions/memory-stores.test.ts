import { createMemorySessionRegistry } from "../../../src/sessions/memory-session-registry.js";
import { MemoryEventStore } from "../../../src/sessions/memory-event-store.js";
import { eventStoreContract, registryContract } from "./store-contracts.js";

registryContract("memory", () => Promise.resolve(createMemorySessionRegistry()));
eventStoreContract("memory", () => Promise.resolve(new MemoryEventStore()));
