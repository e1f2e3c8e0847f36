// The agent settings that create-agent writes and the agent page edits: agent config keys with their types,
// and the checks the form makes before the server sees them.
export const modelSettings = [
  { key: 'primary_model', type: 'string' },
  { key: 'fallback_model', type: 'string' },
  { key: 'temperature', type: 'number' },
  { key: 'max_tokens', type: 'number' },
  { key: 'core_instructions', type: 'string' },
];

export const allRoles = ['admin', 'user', 'viewer'];

/** Field errors for the model settings' values (value(name) gives a trimmed input value); empty when fine. */
export function checkModelSettings(value) {
  const errors = {};
  const temperature = value('temperature');
  if (temperature && !(Number(temperature) >= 0 && Number(temperature) <= 2))
    errors.temperature = ['The temperature must be a number from 0 to 2.'];
  if (value('max_tokens') && !/^[1-9][0-9]{0,6}$/.test(value('max_tokens')))
    errors.max_tokens = ['Max tokens must be a whole number from 1 to 9999999.'];
  return errors;
}
