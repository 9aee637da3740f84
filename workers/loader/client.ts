// The browser side of the loader, as the source text the Worker serves. It is plain ES2017 in a String.raw literal
// (kept verbatim: no bundler helpers can leak into it, backslashes in its regexes survive) and stays small enough to
// be well under 2 KB gzipped with any config. `__CONFIG__` is replaced by the per-container settings (script.ts):
//   m mount prefix, k proxy path, q proxy param, g base64url of the GTM or gtag path+query, l loader path,
//   r cookie restoration active, c cookie names to back up (a trailing * is a prefix), d cookie domain,
//   a detection active, n dataLayer name, i the G- id when the container is a Google tag (gtag.js), else "".
// Order of work: /boot on every page view (it keeps the _sid session cookie). With restoration, GTM waits for it so
// restored cookies exist before GTM reads them, but at most 2 s so a slow edge never costs the page its tracking;
// without, GTM loads at once. Detection runs once /boot answered and the DOM is ready, once per session (_sid, kept
// in sessionStorage once reported; without usable sessionStorage it is skipped rather than repeated).

export const CONFIG_PLACEHOLDER = "__CONFIG__";

/** The reserved bait file under the loader path: its URL matches generic ad-block filters, it serves an empty script. */
export const BAIT_FILE = "advertisement.js";

/** sessionStorage key holding the `_sid` whose detection was reported. */
const SESSION_KEY = "_qxs";

export const CLIENT_TEMPLATE = String.raw`(function(w,d,c){
if(w.__qx)return;w.__qx=1;
var s=d.currentScript,b=(s&&s.src?new URL(s.src).origin:location.origin)+c.m,n=0;
function gtm(){
if(n++)return;
var l=w[c.n]=w[c.n]||[],g;
if(c.i){g=w.gtag=w.gtag||function(){l.push(arguments)};g("js",new Date);g("config",c.i,{server_container_url:b})}
else l.push({"gtm.start":Date.now(),event:"gtm.js"});
var e=d.createElement("script");e.async=true;e.src=b+c.k+"?"+c.q+"="+c.g;
(d.head||d.documentElement).appendChild(e);
}
function wanted(x){
return c.c.some(function(p){return p.slice(-1)=="*"?x.indexOf(p.slice(0,-1))==0:x==p});
}
function boot(){
var jar={},h=location.hostname,t=setTimeout(gtm,c.r?2000:0),
dom=h==c.d||h.slice(-c.d.length-1)=="."+c.d?"; Domain="+c.d:"";
d.cookie.split(";").forEach(function(p){
var i=p.indexOf("="),k=p.slice(0,i).trim(),v=p.slice(i+1).trim();
if(i>0&&wanted(k)&&v.length<=1024&&/^[!#-+\--:<-\[\]-~]*$/.test(v))jar[k]=v;
});
return fetch(b+"/boot",{method:"POST",credentials:"include",body:JSON.stringify({cookies:jar})})
.then(function(r){return r.ok?r.json():{}})
.then(function(j){(j.restoreCookies||[]).forEach(function(k){
d.cookie=k.name+"="+k.value+"; Max-Age="+k.maxAge+"; Path=/"+dom+"; SameSite=Lax"+(location.protocol=="https:"?"; Secure":"");
});return j.sessionId})
.catch(function(){})
.then(function(id){clearTimeout(t);gtm();return id});
}
function detect(id){
var st;try{st=w.sessionStorage;if(!st||id&&st.getItem("${SESSION_KEY}")==id)return}catch(e){return}
id=id||(Math.random().toString(36).slice(2)+Date.now().toString(36)).slice(0,24);
var el=d.createElement("div"),nv=navigator;
el.className="adsbox ad-banner pub_300x250 textads banner_ad";
el.style.cssText="position:absolute;left:-9999px;width:1px;height:1px";
el.innerHTML="&nbsp;";d.body.appendChild(el);
fetch(b+c.l+"${BAIT_FILE}",{mode:"no-cors",credentials:"omit"}).then(function(){return 0},function(){return 1})
.then(function(blocked){setTimeout(function(){
var u=b+"/mark-session-detection",
body=JSON.stringify({sessionId:id,adblock:!!(blocked||!el.offsetParent||!el.offsetHeight),itp:/^Apple/.test(nv.vendor),etp:/Firefox\//.test(nv.userAgent),webdriver:!!nv.webdriver});
el.remove();
if(!(nv.sendBeacon&&nv.sendBeacon(u,body)))fetch(u,{method:"POST",body:body,keepalive:true,credentials:"include"}).catch(function(){});
try{st.setItem("${SESSION_KEY}",id)}catch(e){}
},50)});
}
var p=boot();
if(c.a)p.then(function(id){if(d.readyState=="loading")d.addEventListener("DOMContentLoaded",function(){detect(id)});else detect(id)});
})(window,document,${CONFIG_PLACEHOLDER});
`;
