// The agent's own version, sent as AgentVersion (the model's pattern: three or four dot-separated numbers).

export const AGENT_VERSION = '1.0.0';
