package main

// The first demo article: the news story on the seed page (NATO Multimedia,
// 19 April 2007). Kept verbatim, typography included.

const (
	demoArticleTitle   = "NATO Allies discuss missile defence"
	demoArticleSummary = `Following high-level consultations, NATO member countries agreed that the territory of all member countries must be protected from missile threats, calling for “indivisible security”`
	demoArticleBody    = `At a special meeting at NATO’s Headquarters, 19 April, high-level representatives from the United States, Czech Republic and Poland briefed other NATO members on proposals to place parts of the US missile defence system in the Czech Republic and Poland.

A meeting of the NATO-Russia Council, held on the same day, provided an opportunity to address Russia’s concerns regarding the plans.

Indivisible security

Once fully implemented, the US missile defence system would protect US territory and most - but not all - of Europe from missile threats, including from Iran and North Korea.

During the meeting, experts exchanged views on whether existing NATO missile defence projects – being developed in NATO to protect troops on operations - could be “bolted on” the US system to ensure that all of Europe is covered.

The unanimous view was that the principle of the indivisibility of security should apply,” NATO Secretary General Jaap de Hoop Scheffer told reporters, “There is a shared desire that any US system should be complementary to any NATO missile defence system.

Discussions to continue at NATO

NATO Allies agreed that the threat of missile attacks is real and that NATO is the right framework for discussions on missile defence.

There is absolutely a shared threat perception,” stressed the Secretary General, “Allies all agree a threat from ballistic missiles exists.

Mr. De Hoop Scheffer also said that the planned US deployment of 10 interceptors in Poland and a radar in the Czech Republic would not affect the strategic balance with Russia.

The discussions are set to be continued at a meeting of NATO Foreign Ministers in Oslo, 26-27 April.`
)

var demoArticleTags = []string{"missile defence", "nato-russia council", "indivisible security"}
