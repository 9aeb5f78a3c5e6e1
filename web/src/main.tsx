import { render } from 'preact';
import { App } from './components/App';
import { applyTheme } from './theme';
import './styles.css';

applyTheme();
render(<App />, document.getElementById('app')!);
