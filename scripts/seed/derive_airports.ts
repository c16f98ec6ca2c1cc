/**
 * Derives `airports.json` (committed) from the `airport-data-js` npm package (OurAirports data
 * with IANA time zones, CC BY 4.0) for a curated list of real airports, each with its city and a
 * size tier we assign. The seed reads only the committed JSON; run this again only to change the
 * list:
 *
 * ```sh
 * deno run -A scripts/seed/derive_airports.ts
 * ```
 *
 * Tier (our judgement, roughly annual passengers): 5 ≥ 45M, 4 ≥ 20M, 3 ≥ 9M, 2 ≥ 3M, 1 smaller.
 * The generator weights routes by it, so the network is hub-heavy the way real traffic is.
 *
 * @module
 */
import { createRequire } from "node:module";

const sourcePackage = "airport-data-js@4.0.0";

/** `IATA|City|tier`, grouped by region for review. */
const curated = `
ATL|Atlanta|5 DFW|Dallas|5 DEN|Denver|5 ORD|Chicago|5 LAX|Los Angeles|5 JFK|New York|5
LAS|Las Vegas|4 MCO|Orlando|4 MIA|Miami|4 CLT|Charlotte|4 SEA|Seattle|4 PHX|Phoenix|4
EWR|Newark|4 SFO|San Francisco|4 IAH|Houston|4 BOS|Boston|4 FLL|Fort Lauderdale|3
MSP|Minneapolis|4 LGA|New York|4 DTW|Detroit|4 PHL|Philadelphia|3 SLC|Salt Lake City|3
BWI|Baltimore|3 DCA|Washington|3 SAN|San Diego|3 IAD|Washington|3 TPA|Tampa|3
BNA|Nashville|3 AUS|Austin|3 MDW|Chicago|3 HNL|Honolulu|3 DAL|Dallas|2 PDX|Portland|3
STL|St. Louis|2 RDU|Raleigh|2 HOU|Houston|2 SMF|Sacramento|2 MSY|New Orleans|2
SJC|San Jose|2 SNA|Santa Ana|2 MCI|Kansas City|2 SAT|San Antonio|2 OAK|Oakland|2
RSW|Fort Myers|2 CLE|Cleveland|2 IND|Indianapolis|2 PIT|Pittsburgh|2 CMH|Columbus|2
CVG|Cincinnati|2 JAX|Jacksonville|2 OGG|Kahului|2 BDL|Hartford|2 ABQ|Albuquerque|1
ONT|Ontario|1 BUR|Burbank|1 MKE|Milwaukee|1 ANC|Anchorage|1 OMA|Omaha|1 BOI|Boise|1
RNO|Reno|1 TUS|Tucson|1 ELP|El Paso|1 OKC|Oklahoma City|1 TUL|Tulsa|1 MEM|Memphis|1
RIC|Richmond|1 SDF|Louisville|1 BUF|Buffalo|1 ORF|Norfolk|1 CHS|Charleston|1 SAV|Savannah|1
PBI|West Palm Beach|1 SRQ|Sarasota|1 MYR|Myrtle Beach|1 PVD|Providence|1 ALB|Albany|1
BHM|Birmingham|1 LIT|Little Rock|1 DSM|Des Moines|1 GRR|Grand Rapids|1 SYR|Syracuse|1
ROC|Rochester|1 KOA|Kailua-Kona|1 LIH|Lihue|1 PSP|Palm Springs|1 FAT|Fresno|1
SBA|Santa Barbara|1 MSN|Madison|1 GEG|Spokane|1 BZN|Bozeman|1 JAC|Jackson|1

YYZ|Toronto|4 YVR|Vancouver|4 YUL|Montreal|3 YYC|Calgary|3 YEG|Edmonton|2 YOW|Ottawa|2
YWG|Winnipeg|1 YHZ|Halifax|1 YQB|Quebec City|1 YXE|Saskatoon|1 YLW|Kelowna|1 YYJ|Victoria|1
YTZ|Toronto|1

MEX|Mexico City|4 CUN|Cancún|4 GDL|Guadalajara|3 MTY|Monterrey|3 TIJ|Tijuana|3
SJD|San José del Cabo|2 PVR|Puerto Vallarta|2 BJX|León|1 MID|Mérida|2 OAX|Oaxaca|1

SJU|San Juan|2 PUJ|Punta Cana|2 SDQ|Santo Domingo|2 MBJ|Montego Bay|2 NAS|Nassau|1
HAV|Havana|1 PTY|Panama City|3 SJO|San José|2 LIR|Liberia|1 SAL|San Salvador|1
GUA|Guatemala City|1 AUA|Oranjestad|1 BGI|Bridgetown|1 POS|Port of Spain|1 KIN|Kingston|1
SXM|Philipsburg|1

GRU|São Paulo|4 GIG|Rio de Janeiro|3 BSB|Brasília|3 CGH|São Paulo|3 VCP|Campinas|2
CNF|Belo Horizonte|2 SSA|Salvador|2 REC|Recife|2 FOR|Fortaleza|2 POA|Porto Alegre|2
CWB|Curitiba|2 BOG|Bogotá|4 MDE|Medellín|3 CTG|Cartagena|2 CLO|Cali|2 LIM|Lima|3
SCL|Santiago|3 EZE|Buenos Aires|3 AEP|Buenos Aires|3 COR|Córdoba|1 MVD|Montevideo|1
UIO|Quito|2 GYE|Guayaquil|1 ASU|Asunción|1 VVI|Santa Cruz de la Sierra|1 LPB|La Paz|1

LHR|London|5 CDG|Paris|5 AMS|Amsterdam|5 FRA|Frankfurt|5 IST|Istanbul|5 MAD|Madrid|5
BCN|Barcelona|4 MUC|Munich|4 LGW|London|4 FCO|Rome|4 DUB|Dublin|4 ZRH|Zurich|3
CPH|Copenhagen|3 PMI|Palma de Mallorca|3 MAN|Manchester|3 OSL|Oslo|3 LIS|Lisbon|4
ARN|Stockholm|3 VIE|Vienna|4 STN|London|3 DUS|Düsseldorf|3 BRU|Brussels|3 ATH|Athens|3
MXP|Milan|3 HEL|Helsinki|3 BER|Berlin|3 HAM|Hamburg|2 WAW|Warsaw|3 PRG|Prague|3
BUD|Budapest|3 NCE|Nice|3 GVA|Geneva|3 LYS|Lyon|2 MRS|Marseille|2 TLS|Toulouse|2
BOD|Bordeaux|2 NTE|Nantes|2 ORY|Paris|4 AGP|Málaga|3 ALC|Alicante|3 VLC|Valencia|2
SVQ|Seville|2 BIO|Bilbao|2 IBZ|Ibiza|2 TFS|Tenerife|2 LPA|Gran Canaria|2 ACE|Lanzarote|2
FUE|Fuerteventura|1 OPO|Porto|3 FAO|Faro|2 FNC|Funchal|1 EDI|Edinburgh|3 BHX|Birmingham|2
GLA|Glasgow|2 BRS|Bristol|2 LTN|London|3 LCY|London|1 NCL|Newcastle|1 BFS|Belfast|1
ORK|Cork|1 STR|Stuttgart|2 CGN|Cologne|2 HAJ|Hanover|1 NUE|Nuremberg|1 LEJ|Leipzig|1
BSL|Basel|2 BLQ|Bologna|2 VCE|Venice|3 NAP|Naples|3 CTA|Catania|3 PMO|Palermo|2
BGY|Bergamo|3 LIN|Milan|2 FLR|Florence|1 PSA|Pisa|1 TRN|Turin|1 CAG|Cagliari|1 OLB|Olbia|1
BRI|Bari|1 BGO|Bergen|2 TRD|Trondheim|1 SVG|Stavanger|1 GOT|Gothenburg|2 BLL|Billund|1
KEF|Reykjavík|2 RIX|Riga|2 VNO|Vilnius|1 TLL|Tallinn|1 KRK|Kraków|2 GDN|Gdańsk|1
WRO|Wrocław|1 KTW|Katowice|1 OTP|Bucharest|2 SOF|Sofia|2 BEG|Belgrade|2 ZAG|Zagreb|1
LJU|Ljubljana|1 SPU|Split|1 DBV|Dubrovnik|1 SKG|Thessaloniki|2 HER|Heraklion|2 RHO|Rhodes|1
JTR|Santorini|1 CFU|Corfu|1 LCA|Larnaca|2 PFO|Paphos|1 MLA|Luqa|2 SAW|Istanbul|4
AYT|Antalya|4 ESB|Ankara|3 ADB|İzmir|3 DLM|Dalaman|1 BJV|Bodrum|1 TBS|Tbilisi|1
EVN|Yerevan|1 GYD|Baku|1 EIN|Eindhoven|2 RTM|Rotterdam|1 LUX|Luxembourg|1 CRL|Charleroi|2
SZG|Salzburg|1 INN|Innsbruck|1 GRZ|Graz|1

DXB|Dubai|5 DOH|Doha|5 AUH|Abu Dhabi|4 JED|Jeddah|4 RUH|Riyadh|4 DMM|Dammam|2
MED|Medina|2 TLV|Tel Aviv|3 AMM|Amman|2 BEY|Beirut|2 CAI|Cairo|3 HRG|Hurghada|2
SSH|Sharm el-Sheikh|1 KWI|Kuwait City|2 BAH|Manama|2 MCT|Muscat|2 SHJ|Sharjah|3

JNB|Johannesburg|3 CPT|Cape Town|3 DUR|Durban|2 ADD|Addis Ababa|3 NBO|Nairobi|2
MBA|Mombasa|1 LOS|Lagos|2 ABV|Abuja|1 ACC|Accra|1 CMN|Casablanca|2 RAK|Marrakesh|2
TUN|Tunis|1 ALG|Algiers|1 DSS|Dakar|1 DAR|Dar es Salaam|1 JRO|Kilimanjaro|1 ZNZ|Zanzibar|1
EBB|Entebbe|1 KGL|Kigali|1 LAD|Luanda|1 MRU|Port Louis|1 SEZ|Mahé|1 TNR|Antananarivo|1
LUN|Lusaka|1 HRE|Harare|1 WDH|Windhoek|1 ABJ|Abidjan|1

DEL|Delhi|5 BOM|Mumbai|4 BLR|Bengaluru|4 HYD|Hyderabad|3 MAA|Chennai|3 CCU|Kolkata|3
COK|Kochi|2 AMD|Ahmedabad|2 GOI|Goa|2 PNQ|Pune|2 JAI|Jaipur|1 LKO|Lucknow|1 ATQ|Amritsar|1
TRV|Thiruvananthapuram|1 CMB|Colombo|2 MLE|Malé|1 KTM|Kathmandu|1 DAC|Dhaka|2 KHI|Karachi|2
LHE|Lahore|2 ISB|Islamabad|1

PEK|Beijing|5 PKX|Beijing|4 PVG|Shanghai|5 SHA|Shanghai|4 CAN|Guangzhou|5 CTU|Chengdu|4
SZX|Shenzhen|5 KMG|Kunming|4 XIY|Xi'an|4 CKG|Chongqing|4 HGH|Hangzhou|4 NKG|Nanjing|3
WUH|Wuhan|3 CSX|Changsha|3 XMN|Xiamen|3 TAO|Qingdao|3 TSN|Tianjin|2 DLC|Dalian|2
SHE|Shenyang|2 HRB|Harbin|2 CGO|Zhengzhou|3 URC|Ürümqi|2 SYX|Sanya|2 HAK|Haikou|2
FOC|Fuzhou|2 NNG|Nanning|2 KWE|Guiyang|2 TNA|Jinan|2 HKG|Hong Kong|5 MFM|Macau|2
TPE|Taipei|4 TSA|Taipei|2 KHH|Kaohsiung|2 RMQ|Taichung|1 HND|Tokyo|5 NRT|Tokyo|4
KIX|Osaka|4 ITM|Osaka|3 NGO|Nagoya|3 FUK|Fukuoka|3 CTS|Sapporo|3 OKA|Naha|3
KOJ|Kagoshima|1 HIJ|Hiroshima|1 SDJ|Sendai|1 ICN|Seoul|5 GMP|Seoul|4 CJU|Jeju|4
PUS|Busan|3 TAE|Daegu|1 UBN|Ulaanbaatar|1

SIN|Singapore|5 BKK|Bangkok|5 DMK|Bangkok|4 HKT|Phuket|3 CNX|Chiang Mai|2 USM|Ko Samui|1
KUL|Kuala Lumpur|5 PEN|Penang|2 BKI|Kota Kinabalu|2 KCH|Kuching|1 CGK|Jakarta|5
DPS|Denpasar|4 SUB|Surabaya|3 KNO|Medan|1 UPG|Makassar|1 MNL|Manila|4 CEB|Cebu|3
DVO|Davao|1 SGN|Ho Chi Minh City|4 HAN|Hanoi|4 DAD|Da Nang|3 CXR|Nha Trang|1
PQC|Phu Quoc|1 REP|Siem Reap|1 PNH|Phnom Penh|1 RGN|Yangon|1 VTE|Vientiane|1

SYD|Sydney|4 MEL|Melbourne|4 BNE|Brisbane|3 PER|Perth|3 ADL|Adelaide|2 OOL|Gold Coast|2
CNS|Cairns|2 CBR|Canberra|1 HBA|Hobart|1 DRW|Darwin|1 AKL|Auckland|3 CHC|Christchurch|2
WLG|Wellington|2 ZQN|Queenstown|1 NAN|Nadi|1 PPT|Papeete|1 NOU|Nouméa|1 POM|Port Moresby|1
GUM|Hagåtña|1
`;

/**
 * Corrections to the source, checked by hand: the source files a few Brazilian and Argentine
 * airports under a neighbouring zone with the same offset today (tzdata keeps them apart because
 * their histories differ), the Dutch side of Sint Maarten under the French side's zone, and two
 * names carry typos.
 */
const overrides: Record<string, { timeZone?: string; name?: string }> = {
  SSA: { timeZone: "America/Bahia" },
  REC: { timeZone: "America/Recife" },
  FOR: { timeZone: "America/Fortaleza" },
  COR: { timeZone: "America/Argentina/Cordoba" },
  SXM: { timeZone: "America/Lower_Princes" },
  GDL: { name: "Don Miguel Hidalgo y Costilla International Airport" },
  BEG: { name: "Belgrade Nikola Tesla Airport" },
};

interface SourceAirport {
  iata: string;
  time: string;
  country_code: string;
  airport: string;
  latitude: number;
  longitude: number;
  type: string;
}

async function loadSource(): Promise<SourceAirport[]> {
  const dir = await Deno.makeTempDir({ prefix: "airport-data-" });
  try {
    const pack = await new Deno.Command("npm", {
      args: ["pack", sourcePackage, "--silent"],
      cwd: dir,
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!pack.success) throw new Error(`npm pack ${sourcePackage} failed`);
    const tarball = new TextDecoder().decode(pack.stdout).trim().split("\n").at(-1) ?? "";
    const untar = await new Deno.Command("tar", { args: ["xzf", tarball], cwd: dir }).output();
    if (!untar.success) throw new Error(`could not unpack ${tarball}`);
    const require = createRequire(import.meta.url);
    const lib = require(`${dir}/package/lib/index.js`) as {
      findAirports(filters: Record<string, never>): Promise<SourceAirport[]>;
    };
    return await lib.findAirports({});
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const round = (value: number) => Math.round(value * 1e6) / 1e6;

const entries = curated.trim().split(/\s+(?=[A-Z]{3}\|)/).map((entry) => {
  const [iata = "", city = "", tier = ""] = entry.trim().split("|");
  return { iata, city, tier: Number(tier) };
});
const seen = new Set<string>();
for (const { iata } of entries) {
  if (seen.has(iata)) throw new Error(`${iata} is listed twice`);
  seen.add(iata);
}

const byCode = new Map((await loadSource()).map((a) => [a.iata, a]));
const airports = entries.map(({ iata, city, tier }) => {
  const source = byCode.get(iata);
  if (!source) throw new Error(`${iata} is not in ${sourcePackage}`);
  const fix = overrides[iata] ?? {};
  const timeZone = fix.timeZone ?? source.time;
  // Throws RangeError for a zone this runtime's ICU does not know.
  new Intl.DateTimeFormat("en", { timeZone });
  return {
    iata,
    name: fix.name ?? source.airport,
    city,
    country: source.country_code,
    timeZone,
    latitude: round(source.latitude),
    longitude: round(source.longitude),
    tier,
  };
});

const out = new URL("./airports.json", import.meta.url);
const source =
  `Derived by scripts/seed/derive_airports.ts from the npm package ${sourcePackage} (OurAirports data, CC BY 4.0); cities, tiers and a few corrections curated there.`;
const body = `${JSON.stringify({ source, airports }, null, 2)}\n`;
await Deno.writeTextFile(out, body);
console.log(`wrote ${airports.length} airports to ${out.pathname}`);
