// The browser side of the loader, as the source text the Worker serves. It is plain ES2017 in a String.raw literal
// (kept verbatim: no bundler helpers can leak into it, backslashes in its regexes survive) and stays small enough to
// be well under 2 KB gzipped with any config. `__CONFIG__` is replaced by the per-container settings (settings.ts):
//   m mount prefix, k proxy path, q proxy param, g base64url of the GTM path+query, l loader path,
//   r cookie restoration active, c cookie names (a trailing * is a prefix), d cookie domain, a detection active.
// Order of work: /boot first, so restored cookies exist before GTM reads them; GTM anyway after TIMEOUT_MS so a
// slow edge never costs the page its tracking. Detection runs after DOMContentLoaded, once per browser session
// (without usable sessionStorage, e.g. storage blocked, it is skipped rather than repeated on every page view).

export const CONFIG_PLACEHOLDER = "__CONFIG__";

/** The reserved bait file under the loader path: its URL matches generic ad-block filters, it serves an empty script. */
export const BAIT_FILE = "advertisement.js";

/** sessionStorage key holding the session id once the detection was reported. */
export const SESSION_KEY = "_qxs";

export const CLIENT_TEMPLATE = String.raw`(function(w,d,c){
if(w.__qx)return;w.__qx=1;
var s=d.currentScript,b=(s&&s.src?new URL(s.src).origin:location.origin)+c.m,n=0;
function gtm(){
if(n++)return;
(w.dataLayer=w.dataLayer||[]).push({"gtm.start":Date.now(),event:"gtm.js"});
var e=d.createElement("script");e.async=true;e.src=b+c.k+"?"+c.q+"="+c.g;
(d.head||d.documentElement).appendChild(e);
}
function wanted(x){
return c.c.some(function(p){return p.slice(-1)=="*"?x.indexOf(p.slice(0,-1))==0:x==p});
}
function boot(){
var jar={},h=location.hostname,t=setTimeout(gtm,2000),
dom=h==c.d||h.slice(-c.d.length-1)=="."+c.d?"; Domain="+c.d:"";
d.cookie.split(";").forEach(function(p){
var i=p.indexOf("="),k=p.slice(0,i).trim(),v=p.slice(i+1).trim();
if(i>0&&wanted(k)&&v.length<=1024&&/^[!#-+\--:<-\[\]-~]*$/.test(v))jar[k]=v;
});
fetch(b+"/boot",{method:"POST",credentials:"include",body:JSON.stringify({cookies:jar})})
.then(function(r){return r.ok?r.json():{}})
.then(function(j){(j.restoreCookies||[]).forEach(function(k){
d.cookie=k.name+"="+k.value+"; Max-Age="+k.maxAge+"; Path=/"+dom+"; SameSite=Lax"+(location.protocol=="https:"?"; Secure":"");
})})
.catch(function(){})
.then(function(){clearTimeout(t);gtm()});
}
function detect(){
var st;try{st=w.sessionStorage;if(!st||st.getItem("${SESSION_KEY}"))return}catch(e){return}
var el=d.createElement("div");
el.className="adsbox ad-banner pub_300x250 textads banner_ad";
el.style.cssText="position:absolute;left:-9999px;width:1px;height:1px";
el.innerHTML="&nbsp;";d.body.appendChild(el);
fetch(b+c.l+"${BAIT_FILE}",{mode:"no-cors",credentials:"omit"}).then(function(){return 0},function(){return 1})
.then(function(blocked){setTimeout(function(){
var id=(Math.random().toString(36).slice(2)+Date.now().toString(36)).slice(0,24),u=b+"/mark-session-detection",
body=JSON.stringify({sessionId:id,adblock:!!(blocked||!el.offsetParent||!el.offsetHeight),itp:/^Apple/.test(navigator.vendor),webdriver:!!navigator.webdriver});
el.remove();
if(!(navigator.sendBeacon&&navigator.sendBeacon(u,body)))fetch(u,{method:"POST",body:body,keepalive:true,credentials:"include"}).catch(function(){});
try{st.setItem("${SESSION_KEY}",id)}catch(e){}
},50)});
}
if(c.r)boot();else gtm();
if(c.a){if(d.readyState=="loading")d.addEventListener("DOMContentLoaded",detect);else detect();}
})(window,document,${CONFIG_PLACEHOLDER});
`;
