import type { Channel } from '../types';

/** Renders a labelled picker of a guild's channels, categories included. */
export function ChannelSelect(props: { channels: Channel[]; value: string; onChange: (id: string) => void }) {
  return (
    <label>
      Channel
      <select aria-label="Channel" value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.channels.map((c) => (
          <option key={c.id} value={c.id}>
            {c.kind === 'category' ? `Category ${c.name}` : `#${c.name}`}
          </option>
        ))}
      </select>
    </label>
  );
}
