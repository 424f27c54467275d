# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Explorer le panel des conseillers numériques
#
# Chaque intercommunalité (EPCI) et chaque département de France à la fin de chaque mois,
# tel que l'écrit `analyse panel` (dans `reports/panel/` par défaut). Les définitions sont
# celles des rapports départementaux ; le dictionnaire des colonnes est dans le README.

# %% tags=["parameters"]
# Paramètres (Papermill peut les remplacer).
dossier_panel = "../reports/panel"  # écrit par « analyse panel »
departement = "05"  # pour la carte interactive
siren = "200067825"  # CA Gap-Tallard-Durance : sa trajectoire face à son département

# %%
from pathlib import Path

import geopandas as gpd
import pandas as pd
from IPython.display import display

dossier = Path(dossier_panel)
epci = pd.read_parquet(dossier / "panel_epci.parquet")
departements = pd.read_parquet(dossier / "panel_departements.parquet")
contours = gpd.read_parquet(dossier / "epci.parquet")
mois = sorted(epci["mois"].unique())
dernier = mois[-1]
print(f"{epci['siren_epci'].nunique()} EPCI × {len(mois)} mois, de {mois[0]} à {dernier}")
epci.head()

# %% [markdown]
# ## IFN supérieur à 7, des habitants à plus de 20 km, un an après les premiers comités
#
# Quels EPCI à l'indice de fragilité numérique supérieur à 7 avaient encore des habitants
# à plus de 20 km d'un lieu de conseiller un an après les premiers comités ?
#
# Les premiers comités datent de mars 2021 : on regarde mars 2022 (ou le dernier mois du
# panel avant cette date).

# %%
un_an_apres = str(pd.Period(mois[0], freq="M") + 12)
mois_vise = max(m for m in mois if m <= un_an_apres)
ce_mois = epci.loc[epci["mois"] == mois_vise]
loin = ce_mois.loc[(ce_mois["ifn"] > 7) & (ce_mois["population_au_dela_20km"] > 0)]
loin = loin.assign(part_au_dela_20km=loin["population_au_dela_20km"] / loin["population"])
loin.sort_values("part_au_dela_20km", ascending=False)[
    [
        "nom_epci",
        "departements",
        "ifn",
        "postes",
        "population",
        "population_au_dela_20km",
        "part_au_dela_20km",
    ]
]

# %% [markdown]
# ## Quels EPCI sont passés sous la médiane de leurs comparables ?
#
# Comparables : même nature et même classe de densité de population, dans toute la
# France, au même mois. On garde ceux qui étaient au niveau de la médiane ou au-dessus à
# un mois du panel et en dessous au dernier.

# %%
ecarts = epci.pivot(index="siren_epci", columns="mois", values="ecart_comparables")
au_dessus_un_jour = ecarts.drop(columns=dernier).ge(0).any(axis=1)
en_retard = ecarts.index[au_dessus_un_jour & ecarts[dernier].lt(0)]
derniers = epci.loc[epci["mois"] == dernier].set_index("siren_epci")
derniers.loc[
    derniers.index.intersection(en_retard),
    [
        "nom_epci",
        "type_epci",
        "classe_densite",
        "conseillers_pour_10000_hab",
        "densite_mediane_comparables",
        "ecart_comparables",
    ],
].sort_values("ecart_comparables")

# %% [markdown]
# ## Postes comptés, postes localisés : où diffèrent-ils le plus ?
#
# Dans quels départements les postes comptés et ceux localisés dans ses EPCI diffèrent-ils
# le plus ?
#
# Comptés : ce que la liste nationale rattache au département (décompte de l'ANCT) ;
# localisés : les postes des structures situées dans ses intercommunalités.

# %%
dep = departements.loc[departements["mois"] == dernier].copy()
dep["difference"] = dep["postes_localises"] - dep["postes_comptes"]
dep.reindex(dep["difference"].abs().sort_values(ascending=False).index)[
    [
        "departement",
        "nom_departement",
        "postes_comptes",
        "postes_localises",
        "difference",
        "departementaux",
        "venus_d_ailleurs",
        "localises_hors_departement",
    ]
].head(15)

# %% [markdown]
# ## La trajectoire d'un EPCI face à son département

# %%
un_epci = epci.loc[epci["siren_epci"] == siren]
ses_departements = un_epci["departements"].iloc[0].split(",")
son_departement = departement if departement in ses_departements else ses_departements[0]
trajectoire = pd.DataFrame(
    {
        un_epci["nom_epci"].iloc[0]: un_epci.set_index("mois")["conseillers_pour_10000_hab"],
        f"département {son_departement}": departements.loc[
            departements["departement"] == son_departement
        ].set_index("mois")["conseillers_pour_10000_hab"],
        "France (cible nationale)": un_epci.set_index("mois")["cible_nationale"],
    }
)
display(trajectoire)

# %%
axes = trajectoire.plot(marker="o", figsize=(8, 4))
axes.set_ylabel("conseillers pour 10 000 habitants")
axes.set_xlabel("fin du mois")
# %% [markdown]
# ## Carte de France au dernier mois

# %%
carte = contours[["siren_epci", "geometry"]].merge(
    epci.loc[epci["mois"] == dernier], on="siren_epci"
)
metropole = carte.loc[~carte["departements"].str.startswith("97")].to_crs(2154)
axes = metropole.plot(
    column="conseillers_pour_10000_hab",
    cmap="viridis",
    legend=True,
    figsize=(8, 8),
    missing_kwds={"color": "lightgrey"},
    legend_kwds={"label": f"conseillers pour 10 000 habitants, fin {dernier}"},
)
axes.set_axis_off()

# %% [markdown]
# ## Carte interactive d'un département
#
# La carte interactive des rapports (mêmes classes, mêmes couleurs, infobulles) : Leaflet
# est dans la page, elle s'affiche sans connexion, dans JupyterLab comme dans le notebook
# exporté en HTML.

# %%
from analyse.render.exports.interactive_map import interactive_map
from analyse.wording import month_label

du_departement = carte.loc[carte["departements"].str.split(",").map(lambda d: departement in d)]
interactive_map(du_departement, title=f"Département {departement}, fin {month_label(dernier)}")
