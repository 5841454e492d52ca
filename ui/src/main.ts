import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import { boot } from './lib/session.svelte';
import { i18n } from './lib/i18n.svelte';
import { preloadRoom } from './lib/roomload';

document.documentElement.lang = i18n.lang;
// a room's requests start now, not after its code has arrived
boot(preloadRoom(location.pathname, location.search));
mount(App, { target: document.getElementById('app')! });
